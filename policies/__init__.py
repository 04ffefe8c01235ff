"""Built-in policy packs: data read by the compiler (see README.md here)."""
