"""Extract: find the files of a tahun (`discover`), fingerprint them (`fingerprint`), read them into text cells
(`readers`), stage them into the usulan contract (`staging`, `parse`) in worker processes (`read`), and resolve
wilayah names to codes (`wilayah`). `api` pulls a SIPD-like API into the inbox."""
