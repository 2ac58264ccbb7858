"""Raw capture: every response a crawl receives, kept with its request as WARC records.

``writer`` writes rotating, per-record gzipped WARC files and turns identical payloads into
``revisit`` records; ``middleware`` plugs it into Scrapy and fetches attachments;
``reparse`` reads the files back into responses for the spider's own callbacks; ``wacz``
packages them for replay tools.
"""
