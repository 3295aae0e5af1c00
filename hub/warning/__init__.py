"""Consumer warnings (消费预警) with the products and recalls they refer to."""
