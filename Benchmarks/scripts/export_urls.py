"""The URLs an export of the emulator at URL requests, in order: every list page (1000 a page, following the
cursors), then each threat's analysis and first page of explore events. For the libcurl CPU anchor."""
import json, sys, urllib.parse, urllib.request

base, token = sys.argv[1], sys.argv[2]
def get(url):
    request = urllib.request.Request(url, headers={"Authorization": f"ApiToken {token}"})
    return json.load(urllib.request.urlopen(request))

urls, ids, cursor = [], [], None
while True:
    query = {"limit": "1000"}
    if cursor:
        query.update(skipCount="true", cursor=cursor)
    url = f"{base}/web/api/v2.1/threats?{urllib.parse.urlencode(query)}"
    urls.append(url)
    page = get(url)
    ids += [item["id"] for item in page["data"]]
    cursor = page["pagination"]["nextCursor"]
    if not cursor:
        break
for threat in ids:
    urls.append(f"{base}/web/api/v2.1/private/threats/{threat}/analysis")
    urls.append(f"{base}/web/api/v2.1/threats/{threat}/explore/events?limit=1000&skipCount=true")
print("\n".join(urls))
