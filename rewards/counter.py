def counter_urls(site):
    return []
