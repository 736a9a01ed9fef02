"""The loyalty card in Apple Wallet and Google Wallet.

    card page ──"Add to Apple Wallet"──▶ /wallet/apple/card.pkpass (signed, pkpass.py)
              ──"Save to Google Wallet"─▶ /wallet/google/save ─▶ pay.google.com/gp/v/save/<JWT>
    ledger entry / tier move ─▶ wallet_pass_changed (same transaction, one UPDATE)
        ─on commit─▶ rewards.tasks.wallet_pass_sync ─▶ APNs push per device (apns.py)
                                                    └▶ PATCH of the Google object (google.py)
    the device, after the push ─▶ Apple's pass web service (views.py, /wallet/apple/v1/...)

Nothing here runs unless the settings configure it (config.py): without them
the card page shows no button and a ledger write costs no query.
"""
