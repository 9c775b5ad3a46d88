"""The handler both benchmark plugins run: the same work, so what differs is the serving."""


def answer(text: str) -> str:
    return f"Echo: {text}"
