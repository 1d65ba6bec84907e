"""Mundipagg (Pagar.me Core API v5): the payment gateway that charges the gym's subscriptions."""
