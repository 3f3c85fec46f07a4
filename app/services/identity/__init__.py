"""Identity: accounts (registration, profiles, admins, service clients), sign-in (password and client-credentials
grants, refresh rotation, the failure throttle), taking access away (deactivation, secret rotation: `access`),
citizen identity numbers kept as keyed hashes, and how sure HocSo is of who a person is: OpenID Connect sign-in
with the national e-ID and other providers (oidc, oidc_flow, linking: one person, one account), phone one-time
codes and their SMS senders (otp, phone, sms), and the assurance level of each account (assurance).

Owns: User, RefreshToken, ServiceClient, sign-in attempts, PhoneCode, OidcSignIn, LinkedIdentity. Must not
touch: completions, certificates or feed rows directly — a change others care about (a learner renamed) is
announced through `app.core.events`; completions snapshot an account's assurance when they are recorded.
"""
