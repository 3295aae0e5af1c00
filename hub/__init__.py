"""Quality Credit Hub: the application core (domains, database, auth). No GraphQL here."""
