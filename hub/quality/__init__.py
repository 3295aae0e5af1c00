"""The product quality archive: products and the supervisory spot checks of them."""
