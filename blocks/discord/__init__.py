"""Discord webhooks: where the team reads what the flows changed."""
