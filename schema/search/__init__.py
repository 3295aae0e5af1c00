"""Search over enterprises, recalls and consumer warnings (``searchEnterprises``...)."""
