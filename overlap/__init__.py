"""The n-gram overlap index: word n-gram hashing (ngrams), a Bloom filter (bloom), its parallel,
streaming, resumable build from corpora larger than memory (bloom_build), and the overlap of
documents with it (measure); on Ray, the filter of a ray.data.Dataset (ray_bloom). Used by the
memorization study and by `ovid bloom`."""
