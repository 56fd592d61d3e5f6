"""Service: the FastAPI app (question answering with citations, uploads, permissions).

Built in the service issue; the package exists so the layout matches the client's card.
"""
