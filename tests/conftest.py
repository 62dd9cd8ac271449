from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"

NEWS_DUMP = """Daily Example
  • Home
  • World
  • Sport
Home › World

Volunteers Rebuild the Old Library Roof Before Winter

By Ada Lovell
March 3, 2026

Volunteers in the village spent four weekends replacing the slate roof of the old library, finishing a week before the first frost was forecast for the valley.
The work was paid for by a small grant from the county and by a bake sale that raised more money than the organisers had expected in the spring.

What comes next

The committee now wants to repair the windows and open the reading room on Saturday afternoons, when the school is closed and families are in town.

Advertisement

Share this article
Facebook
Twitter

You may also like

Bakery wins regional prize...

March 1, 2026

Newsletter
Sign up for our newsletter and get the news in your inbox. Unsubscribe at any time.
Subscribe

  • About us
  • Privacy Policy

© 2026 Daily Example. All rights reserved.
Back to top
"""


@pytest.fixture
def news_dump() -> str:
    return NEWS_DUMP
