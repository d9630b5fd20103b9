"""The terminal channel: the demo, run on the same services as Telegram."""
