"""Authentication (JWT, SigV4, Lambda authorizers, the local token issuer) and Amplify authorization rules."""
