"""Settings of the outside services the portal talks to: SMS, Viber,
Telegram, web push, the secrets the providers' webhooks send, webhooks out,
wallet passes and the online payment providers (PAYMENT_PROVIDER itself stays
in settings.py: its default depends on DEBUG). settings.py imports every upper-case name here (after it has
read .env); each is read from the environment with django-environ and
described in .env.example and docs/operations.md."""

import environ

env = environ.Env()

# SMS: SMS_BACKEND names a backend class outright; otherwise an SMS_GATEWAY_URL
# means the HTTP gateway, and without one SMS are kept in the Outbox too.
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=10.0)
if not env.str("SMS_BACKEND", default=""):
    LOYALTY_SMS_BACKEND = (
        "campaigns.messaging.backends.sms.HttpGatewaySmsBackend"
        if SMS_GATEWAY_URL
        else "campaigns.messaging.backends.sms.OutboxSmsBackend"
    )
# Viber business messages through TurboSMS (campaigns.messaging.backends.viber,
# docs/operations.md "Viber"): VIBER_BACKEND names a backend class outright;
# otherwise a VIBER_PROVIDER_TOKEN means TurboSMS, and without one Viber
# messages are kept in the Outbox (offered to members only with DEBUG on).
VIBER_PROVIDER_URL = env.str(
    "VIBER_PROVIDER_URL", default="https://api.turbosms.ua/message/send.json"
)
VIBER_PROVIDER_TOKEN = env.str("VIBER_PROVIDER_TOKEN", default="")
VIBER_PROVIDER_TIMEOUT = env.float("VIBER_PROVIDER_TIMEOUT", default=10.0)
VIBER_SENDER = env.str("VIBER_SENDER", default="")
# A Viber message the provider reports not delivered goes out again by SMS.
VIBER_SMS_FALLBACK = env.bool("VIBER_SMS_FALLBACK", default=True)
VIBER_WEBHOOK_TOKEN = env.str("VIBER_WEBHOOK_TOKEN", default="")
LOYALTY_VIBER_BACKEND = env.str("VIBER_BACKEND", default="") or (
    "campaigns.messaging.backends.viber.TurboSmsViberBackend"
    if VIBER_PROVIDER_TOKEN
    else "campaigns.messaging.backends.viber.OutboxViberBackend"
)
# Telegram (campaigns.telegram, docs/operations.md "Telegram"): the bot's token
# from @BotFather and its username (for the t.me link), the Bot API's address
# (tests point it at a local fake), and the secret Telegram sends with each
# webhook call (X-Telegram-Bot-Api-Secret-Token; empty = the webhook refuses all).
# TELEGRAM_BACKEND names a backend class outright; otherwise a token means the
# Bot API, and without one Telegram messages are kept in the Outbox.
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_BOT_USERNAME = env.str("TELEGRAM_BOT_USERNAME", default="").lstrip("@")
TELEGRAM_API_URL = env.str("TELEGRAM_API_URL", default="https://api.telegram.org")
TELEGRAM_WEBHOOK_SECRET = env.str("TELEGRAM_WEBHOOK_SECRET", default="")
TELEGRAM_TIMEOUT = env.float("TELEGRAM_TIMEOUT", default=10.0)
LOYALTY_TELEGRAM_LINK_TTL_MINUTES = env.int(
    "LOYALTY_TELEGRAM_LINK_TTL_MINUTES", default=15
)
LOYALTY_TELEGRAM_BACKEND = env.str("TELEGRAM_BACKEND", default="") or (
    "campaigns.messaging.backends.telegram.BotApiTelegramBackend"
    if TELEGRAM_BOT_TOKEN
    else "campaigns.messaging.backends.telegram.OutboxTelegramBackend"
)
# Shared secrets the email provider and the SMS gateway send with their webhooks
# (bounces, delivery reports, STOP replies); empty = the webhook refuses all.
EMAIL_WEBHOOK_TOKEN = env.str("EMAIL_WEBHOOK_TOKEN", default="")
SMS_GATEWAY_WEBHOOK_TOKEN = env.str("SMS_GATEWAY_WEBHOOK_TOKEN", default="")

# Webhooks out (members.services.webhooks): seconds a receiver has to answer,
# the first retry's delay (then four times longer each time, at most 6 h
# apart) and how long a delivery is retried before it is failed.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=5.0)
WEBHOOK_RETRY_FIRST = env.float("WEBHOOK_RETRY_FIRST", default=30.0)
WEBHOOK_RETRY_FOR = env.int("WEBHOOK_RETRY_FOR", default=24 * 3600)
# Seconds a process holds the list of active endpoints (an event costs no
# query meanwhile); a new endpoint gets events from that long after it is saved.
WEBHOOK_ENDPOINTS_HELD = 2.0

# Wallet passes (rewards.wallet; docs/operations.md "Wallet passes"): a button
# shows only when all of its wallet's paths and ids are set. The APNs and Google
# API URLs are settings for the tests' fakes; timeout, first retry delay (s).
WALLET_APPLE_PASS_TYPE_ID = env.str("WALLET_APPLE_PASS_TYPE_ID", default="")
WALLET_APPLE_TEAM_ID = env.str("WALLET_APPLE_TEAM_ID", default="")
WALLET_APPLE_CERT = env.str("WALLET_APPLE_CERT", default="")
WALLET_APPLE_KEY = env.str("WALLET_APPLE_KEY", default="")
WALLET_APPLE_KEY_PASSWORD = env.str("WALLET_APPLE_KEY_PASSWORD", default="")
WALLET_APPLE_WWDR = env.str("WALLET_APPLE_WWDR", default="")
WALLET_GOOGLE_ISSUER_ID = env.str("WALLET_GOOGLE_ISSUER_ID", default="")
WALLET_GOOGLE_SERVICE_ACCOUNT_FILE = env.str("WALLET_GOOGLE_SERVICE_ACCOUNT_FILE", default="")  # fmt: skip
WALLET_APPLE_APNS_URL = env.str("WALLET_APPLE_APNS_URL", default="https://api.push.apple.com")  # fmt: skip
WALLET_GOOGLE_API_URL = env.str("WALLET_GOOGLE_API_URL", default="https://walletobjects.googleapis.com")  # fmt: skip
WALLET_TIMEOUT = env.float("WALLET_TIMEOUT", default=10.0)
WALLET_RETRY_FIRST = env.float("WALLET_RETRY_FIRST", default=60.0)
WALLET_RETRY_MAX_ATTEMPTS = env.int("WALLET_RETRY_MAX_ATTEMPTS", default=10)

# Online payment (docs/operations.md, "Online payment").
# The store online sales are recorded at (created on the first payment).
PAYMENT_STORE_CODE = env.str("PAYMENT_STORE_CODE", default="online")
# Signs the test provider's callbacks (derived from SECRET_KEY when unset).
PAYMENT_TEST_SECRET = env.str("PAYMENT_TEST_SECRET", default="")
# Automatic renewal starts the next payment this many days before the end.
PAYMENT_RENEW_DAYS_BEFORE = env.int("PAYMENT_RENEW_DAYS_BEFORE", default=3)
LIQPAY_PUBLIC_KEY = env.str("LIQPAY_PUBLIC_KEY", default="")
LIQPAY_PRIVATE_KEY = env.str("LIQPAY_PRIVATE_KEY", default="")
LIQPAY_CHECKOUT_URL = env.str(
    "LIQPAY_CHECKOUT_URL", default="https://www.liqpay.ua/api/3/checkout"
)
LIQPAY_API_URL = env.str("LIQPAY_API_URL", default="https://www.liqpay.ua/api/request")
# LiqPay's sandbox answers status "sandbox" for a test card: paid only when on.
LIQPAY_SANDBOX = env.bool("LIQPAY_SANDBOX", default=False)
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")

# Web push (docs/operations.md, "Web push"): the VAPID key pair that signs
# every push (`manage.py make_vapid_keys` makes one: the private key as 32
# raw bytes, the public one as the 65-byte point browsers subscribe with, both
# base64url) and the contact the push services may write to (unset: mailto:
# DEFAULT_FROM_EMAIL's address). With both keys the messages leave through the
# browser vendors' push services (pywebpush); without them (`make run`) they
# are kept in the Outbox. PUSH_BACKEND names a backend class outright.
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="")
PUSH_TIMEOUT = env.float("PUSH_TIMEOUT", default=10.0)
LOYALTY_PUSH_BACKEND = env.str("PUSH_BACKEND", default="") or (
    "campaigns.messaging.backends.push.WebPushBackend"
    if VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY
    else "campaigns.messaging.backends.push.OutboxPushBackend"
)
