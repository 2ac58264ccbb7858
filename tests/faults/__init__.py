"""The fault suite: hostile pages, full disks, hostile names and old archives, each case a
crawl through the real engine against a local server (or the archive itself), asserting what
is kept, what is logged and counted, and that the archive is sound afterwards."""
