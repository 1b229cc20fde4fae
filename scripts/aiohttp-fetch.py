#!/usr/bin/env python3
"""The asyncio "fetch many URLs" pattern fetchq replaces, as its benchmark's yardstick.

One aiohttp ClientSession, a Semaphore bounding the requests in flight, asyncio.gather over every
URL (return_exceptions=True), each body read in full. Reads URLs one per line from a file and
prints "<fetched> <failed> <seconds>".

    python3 scripts/aiohttp-fetch.py urls.txt [concurrency=20]
"""
import asyncio
import resource
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
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        results = await asyncio.gather(*(fetch(session, semaphore, u) for u in urls), return_exceptions=True)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    failed = sum(1 for r in results if isinstance(r, BaseException) or r != 200)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    switches = (after.ru_nvcsw + after.ru_nivcsw) - (before.ru_nvcsw + before.ru_nivcsw)
    # fetched, failed, wall seconds, CPU seconds and context switches of the fetching
    print(len(urls) - failed, failed, round(seconds, 3), round(cpu, 3), switches)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20))
