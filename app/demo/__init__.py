"""`flinkswatch demo`: a simulated Flinks on 127.0.0.1 and the service on embedded defaults."""
