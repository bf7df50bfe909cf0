"""gRPC: servicers that convert and delegate, authentication from certificates, one error mapping."""
