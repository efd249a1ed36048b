"""The static site (the default portal): pages, catalog, feed, sitemap and search written as files.

- `files`: atomic writes (temp file in the same folder, then rename).
- `catalog`: what the site holds, as small JSON files under `<site>/_data/` (no database table).
- `render`: the Jinja2 pages (templates/site/), the Atom feed, the sitemap, the search shards.
- `builder`: `Site`: publish / withdraw one article (only the pages it appears on), `rebuild` all.
- `cli`: `toasoan site rebuild`.
"""
