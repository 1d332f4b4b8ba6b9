"""Who may do what: API users, pairing, tokens, scope; secrets, logins, audit."""
