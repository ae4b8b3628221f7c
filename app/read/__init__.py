"""The read side the API answers from: changelog mirrors and the dead-letter index."""
