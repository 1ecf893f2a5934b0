#!/usr/bin/env python3
"""The seed tutorial's async scraper, as a baseline for bench/baseline.mjs.

One aiohttp.ClientSession, an asyncio.Semaphore(C) around each fetch, the body read with
`await response.text()` and parsed with BeautifulSoup ('html.parser') for the title and the
number of <a> links, in the task that fetched it.

    /usr/bin/python3 bench/baselines/aiohttp_scraper.py URLS_FILE CONCURRENCY [--no-parse]

With --no-parse the body is read and not parsed (aiohttp's own cost: links is 0, and a page is ok
when it answered 200).

Prints one JSON line: {"n", "ok", "failed", "links", "wallMs", "cpuS"}. wallMs runs from just
before the first request to the last page parsed; cpuS is this process's CPU time over the same
span (interpreter start and imports excluded, as the service's CPU is counted from its POST).
A page is ok when it answered 200 and has a <title>.
"""

import asyncio
import json
import sys
import time

import aiohttp
from bs4 import BeautifulSoup

TIMEOUT = aiohttp.ClientTimeout(total=30)


async def scrape(session, semaphore, url, parse):
    """Returns the page's number of links, or None when it failed."""
    async with semaphore:
        try:
            async with session.get(url, timeout=TIMEOUT) as response:
                status = response.status
                html = await response.text()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return None
        if not parse:
            return 0 if status == 200 else None
        soup = BeautifulSoup(html, 'html.parser')
        title = soup.title.string if soup.title else None
        links = len(soup.find_all('a'))
    return links if status == 200 and title is not None else None


async def main(urls, concurrency, parse):
    semaphore = asyncio.Semaphore(concurrency)
    # aiohttp's default pool holds 100 connections: sized to C so the semaphore is the only bound.
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        t0, cpu0 = time.perf_counter(), time.process_time()
        pages = await asyncio.gather(*(scrape(session, semaphore, u, parse) for u in urls))
        wall_ms, cpu_s = (time.perf_counter() - t0) * 1000, time.process_time() - cpu0
    done = [p for p in pages if p is not None]
    return {
        'n': len(urls),
        'ok': len(done),
        'failed': len(urls) - len(done),
        'links': sum(done),
        'wallMs': round(wall_ms, 1),
        'cpuS': round(cpu_s, 3),
    }


if __name__ == '__main__':
    with open(sys.argv[1], encoding='utf-8') as f:
        url_list = [line.strip() for line in f if line.strip()]
    print(json.dumps(asyncio.run(main(url_list, int(sys.argv[2]), '--no-parse' not in sys.argv[3:]))))
