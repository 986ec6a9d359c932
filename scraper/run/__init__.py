"""Running a crawl: the pipeline, its run lock and reports, the scheduler, source health."""
