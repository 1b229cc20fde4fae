"""The same crawl as fetchq's crawl benchmark, by Scrapy with ROBOTSTXT_OBEY=True.

    python3 scrapy-crawl.py SEED [SEED...]

Follows every link within the seeds' hosts (same-host), each URL once (Scrapy's canonical
fingerprint: fragment dropped, query sorted), not following rel=nofollow links nor the links of
pages whose meta robots tag says nofollow (Scrapy does neither by itself: done here so both crawls
fetch the same pages). Concurrency as the fetchq workers': 16 per host, 256 in all. Prints
"pages seconds cpu_seconds".
"""
import resource
import sys
import time
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.linkextractors import LinkExtractor

SEEDS = sys.argv[1:]
HOSTS = sorted({urlsplit(s).hostname for s in SEEDS})
pages = 0


class Site(scrapy.Spider):
    name = "site"
    allowed_domains = HOSTS
    start_urls = SEEDS
    # Off-site links are dropped by allowed_domains (the extractor's own domain filter compares host:port).
    links = LinkExtractor(tags=("a", "area"), attrs=("href",))

    def parse(self, response):
        global pages
        pages += 1
        meta = " ".join(response.xpath('//meta[@name="robots"]/@content').getall()).lower()
        if "nofollow" in meta or "none" in meta:
            return
        for link in self.links.extract_links(response):
            if not link.nofollow:
                yield response.follow(link.url, callback=self.parse)


started = time.monotonic()
process = CrawlerProcess(settings={
    "ROBOTSTXT_OBEY": True,
    "CONCURRENT_REQUESTS": 256,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_DELAY": 0,
    "DEPTH_LIMIT": 0,
    "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": False,
    "COOKIES_ENABLED": False,
    "USER_AGENT": "fetchq-bench-scrapy/1.0",
    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
})
process.crawl(Site)
process.start()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(pages, time.monotonic() - started, usage.ru_utime + usage.ru_stime)
