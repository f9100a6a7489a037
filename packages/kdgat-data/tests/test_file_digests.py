"""Source digests are computed once per unchanged file, across processes, and again after any write."""

import hashlib
import os

from kdgat_data.file_digests import FileDigests


def test_a_digest_is_reused_while_the_file_is_unchanged_and_recomputed_after_a_write(tmp_path):
    capture = tmp_path / "capture.csv"
    capture.write_bytes(b"timestamp,arbitration_id,data_field,attack\n1.0,0A0,00,0\n")
    memo = tmp_path / "cache" / "source_digests.json"
    first = FileDigests(memo_file=memo)
    assert first.sha256(capture) == hashlib.sha256(capture.read_bytes()).hexdigest() and first.computed == 1
    first.save()
    later = FileDigests(memo_file=memo)  # another process: read from the memo, nothing hashed
    assert later.sha256(capture) == hashlib.sha256(capture.read_bytes()).hexdigest() and later.computed == 0
    stamp = capture.stat()
    capture.write_bytes(capture.read_bytes().replace(b",0\n", b",1\n"))  # same size, other content
    os.utime(capture, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1000))  # any write moves the mtime
    assert later.sha256(capture) == hashlib.sha256(capture.read_bytes()).hexdigest() and later.computed == 1


def test_an_unreadable_memo_is_started_afresh(tmp_path):
    capture = tmp_path / "capture.csv"
    capture.write_bytes(b"x" * 100)
    memo = tmp_path / "source_digests.json"
    memo.write_text('{"files": {"half-writ')
    digests = FileDigests(memo_file=memo)
    assert digests.sha256(capture) == hashlib.sha256(b"x" * 100).hexdigest() and digests.computed == 1
    digests.save()
    assert FileDigests(memo_file=memo).sha256(capture) == digests.sha256(capture)
