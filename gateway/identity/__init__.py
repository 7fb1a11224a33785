"""Who is calling, and what of it a guest may never see.

auth.py         the caller (admin key, tenant token or nobody) and whether it covers a tenant and a scope
tokens.py       tenant tokens: HS256 JWTs, issued and verified
keys.py         the admin key, the token signing key and the secrets key: from the environment or generated
credentials.py  the gateway's own credentials, recognised in any request header, so none reaches a guest
"""
