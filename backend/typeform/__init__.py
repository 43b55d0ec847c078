"""Typeform, the form applicants fill in: `parsing` (pure: webhook signature and payload,
answers to an application), `responses_api` (the Responses API client) and `intake` (stores
what arrives, from the webhook or the backfill, as applications).

Answers are mapped to application fields by their field `ref` (NODERR_TYPEFORM_FIELDS)."""
