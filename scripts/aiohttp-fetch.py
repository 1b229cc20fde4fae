#!/usr/bin/env python3
"""The asyncio "fetch many URLs" pattern fetchq replaces, as its benchmark's yardstick.

One aiohttp ClientSession, a Semaphore bounding the requests in flight, asyncio.gather over every
URL (return_exceptions=True), each body read in full. Reads URLs one per line from a file and
prints "<fetched> <failed> <seconds>".

    python3 scripts/aiohttp-fetch.py urls.txt [concurrency=20]
"""
import asyncio
import sys
import time

import aiohttp


async def fetch(session, semaphore, url):
    async with semaphore:
        async with session.get(url) as response:
            await response.read()
            return response.status


async def main(path, concurrency):
    with open(path) as f:
        urls = [line.strip() for line in f if line.strip()]
    semaphore = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        results = await asyncio.gather(*(fetch(session, semaphore, u) for u in urls), return_exceptions=True)
        seconds = time.perf_counter() - started
    failed = sum(1 for r in results if isinstance(r, BaseException) or r != 200)
    print(len(urls) - failed, failed, round(seconds, 3))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20))
