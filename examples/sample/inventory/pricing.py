"""Price calculations."""


def apply_discount(price_cents, percent, /, *, round_down=True):
    if not 0 <= percent <= 100:
        raise ValueError("percent must be between 0 and 100")
    discounted = price_cents * (100 - percent) / 100
    return int(discounted) if round_down else round(discounted)


def format_price(price_cents: int, currency: str = "EUR") -> str:
    return f"{price_cents / 100:.2f} {currency}"


def is_free(price_cents): return price_cents == 0
