from dataclasses import dataclass, field
from typing import Iterator, Optional


class OutOfStock(Exception):
    pass


@dataclass
class Item:
    """An item on a shelf."""

    sku: str
    name: str
    price_cents: int
    quantity: int = 0

    @property
    def total_value(self) -> int:
        return self.price_cents * self.quantity


@dataclass
class Store:
    items: dict = field(default_factory=dict)

    def add_item(self, item: Item) -> None:
        self.items[item.sku] = item

    def get_item(self, sku: str) -> Optional[Item]:
        """Look up an item.

        Args:
            sku: The stock keeping unit.
        """
        return self.items.get(sku)

    def remove_stock(self, sku: str, count: int = 1) -> int:
        item = self.items[sku]
        if item.quantity < count:
            raise OutOfStock(sku)
        item.quantity -= count
        return item.quantity

    def iter_low_stock(self, threshold: int = 5) -> Iterator[Item]:
        for item in self.items.values():
            if item.quantity < threshold:
                yield item

    async def refresh(self, source, *, timeout: float = 10.0, **options):
        data = await source.fetch(timeout=timeout, **options)
        for sku, quantity in data.items():
            if sku in self.items:
                self.items[sku].quantity = quantity
