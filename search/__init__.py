"""Search: one tokenizer, an embedded SQL index, Elasticsearch, and the outbox between them."""
