"""State in Redis: key names (keys), persisted records (records) and the store that reads and writes them."""
