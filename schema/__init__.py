"""The GraphQL layer: Strawberry types over the domain core, one schema per tier."""
