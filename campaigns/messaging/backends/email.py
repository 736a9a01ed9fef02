"""An email backend that keeps every email in the database instead of sending it:
`make run` uses it, and the Outbox page in admin shows what would have left."""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend

from members.models import Channel

REFERENCE_HEADER = "X-Loyalty-Message"


class OutboxEmailBackend(BaseEmailBackend):
    """Writes each EmailMessage as an OutboxEntry (subject, to, text, HTML, headers)."""

    def send_messages(self, email_messages) -> int:
        from campaigns.models import OutboxEntry

        kept = 0
        for email in email_messages:
            recipients = email.recipients()
            if not recipients:
                continue
            html = ""
            for content, mimetype in getattr(email, "alternatives", []) or []:
                if mimetype == "text/html":
                    html = content
            mime = email.message()
            headers = {name: str(value) for name, value in mime.items()}
            OutboxEntry.objects.create(
                channel=Channel.EMAIL,
                to=", ".join(recipients)[:500],
                from_address=str(email.from_email or "")[:254],
                subject=str(email.subject or "")[:255],
                body=email.body or "",
                html=html,
                headers=headers,
                reference=str(email.extra_headers.get(REFERENCE_HEADER, ""))[:100],
            )
            kept += 1
        return kept
