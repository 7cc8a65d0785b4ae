"""SQLAlchemy adapter: answers, candidates, reviews, events."""
