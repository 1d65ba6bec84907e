"""How billing-sync runs in production: block set-up, `serve`, Docker image, work pools."""
