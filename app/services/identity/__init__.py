"""Identity: accounts (registration, profiles, admins, service clients), sign-in (password and client-credentials
grants, refresh rotation, the failure throttle) and citizen identity numbers kept as keyed hashes.

Owns: User, RefreshToken, ServiceClient and sign-in attempts. Must not touch: completions, certificates or feed
rows directly — a change others care about (a learner renamed) is announced through `app.core.events`.
"""
