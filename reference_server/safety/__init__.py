"""Safety providers: judge a conversation with a shield and report a violation or none."""
