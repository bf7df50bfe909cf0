"""share-gateway: a federated gRPC gateway for public credit information."""

__version__ = "0.1.0"
