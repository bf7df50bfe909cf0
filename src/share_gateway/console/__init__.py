"""The web console: a local web server that shows compliance officers and data subjects what the nodes
let one identity see, over gRPC with that identity's certificate only; it never opens a database.

Floor: above ``api`` and the clients, below ``cli`` (which starts it). ``nodes`` speaks gRPC, ``proofs`` verifies
what nodes answer with the ledger's code, ``session`` guards every request (one-time token, cookie, CSRF),
``i18n`` holds the English and Chinese catalogs, ``overview`` and ``search`` build the officer's pages' figures,
``subject`` the data subject's pages, ``rendering`` what every page shares, ``app`` wires the routes, ``server``
starts it.
"""
