"""Enterprises, the shared entity of every domain, with their regions and industries."""
