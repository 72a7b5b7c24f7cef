"""The catalog on a real SQLite file: clips, decisions, captions, migrations, PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import pytest
import sqlalchemy as sa

from curator.core.catalog import Catalog, CatalogError, DecisionChange, head_revision
from curator.core.catalog.catalog import alembic_config
from curator.core.catalog.models import Base


def add_film(catalog: Catalog, path: str = "/films/a.mkv", ranges=((0, 50), (50, 120))):
    return catalog.upsert_source(
        path=Path(path), size=1000, mtime=1.0, content_hash=f"hash-{path}", container="matroska",
        codec="h264", fps=Fraction(24000, 1001), frame_count=120, header_frame_count=121,
        width=1920, height=1040, duration=5.005, clip_ranges=list(ranges))


def test_catalog_is_sqlite_in_wal_mode_inside_the_project(project):
    catalog = project.catalog
    assert Path(catalog.engine.url.database) == project.root / "curator.db"
    with catalog.session() as s:
        assert s.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    assert catalog.schema_revision() == head_revision()


def test_clips_keep_exact_ranges_and_fps_fractions(catalog):
    source_id, clip_ids = add_film(catalog)
    clips = catalog.list_clips()
    assert [(c.start_frame, c.end_frame, c.frames) for c in clips] == [(0, 50, 50), (50, 120, 70)]
    assert clips[0].fps == Fraction(24000, 1001)
    assert clips[0].to_json()["fps"] == pytest.approx(23.976, abs=1e-3)
    assert catalog.get_source(source_id).header_frame_count == 121
    assert catalog.counts() == {"pending": 2, "accepted": 0, "rejected": 0, "captioned": 0,
                                "total": 2}


def test_reingest_keeps_decisions_of_unchanged_ranges(catalog):
    source_id, (first, second) = add_film(catalog)
    catalog.set_decision([first], "accepted")
    catalog.save_caption("Studio Ghibli style. A field.", clip_id=first)
    _, created = add_film(catalog, ranges=((0, 50), (50, 90), (90, 120)))
    assert len(created) == 2
    kept = catalog.get_clip(first)
    assert kept.decision == "accepted" and kept.caption == "Studio Ghibli style. A field."
    with pytest.raises(CatalogError):
        catalog.get_clip(second)
    assert catalog.counts()["total"] == 3


def test_decisions_undo_redo_and_rules_never_override_a_person(catalog):
    _, (a, b) = add_film(catalog)
    changes = catalog.set_decision([a, b], "rejected", "too static")
    assert catalog.get_clip(a).reason == "too static"
    redo = catalog.restore_decisions(changes)
    assert catalog.get_clip(a).decision == "pending"
    catalog.restore_decisions(redo)
    assert catalog.get_clip(b).decision == "rejected"
    catalog.set_decision([a], "accepted", by="person")
    catalog.set_decision([b], "pending")
    catalog.set_decision([a, b], "rejected", "too dynamic", by="rule", keep_person_decisions=True)
    assert catalog.get_clip(a).decision == "accepted"
    assert catalog.get_clip(b).reason == "too dynamic"
    assert catalog.counts()["rejected"] == 1


def test_caption_versions_and_manual_edits_are_not_overwritten_by_models(catalog):
    _, (a, _b) = add_film(catalog)
    assert catalog.save_caption("Studio Ghibli style. model one", clip_id=a, origin="qwen2-vl",
                                prompt_hash="p1") is not None
    catalog.save_caption("Studio Ghibli style. fixed by hand", clip_id=a)
    assert catalog.save_caption("Studio Ghibli style. model two", clip_id=a,
                                origin="qwen2-vl") is None
    assert catalog.get_clip(a).caption == "Studio Ghibli style. fixed by hand"
    history = catalog.caption_history(clip_id=a)
    assert [h.origin for h in history] == ["manual", "qwen2-vl"]
    restored = catalog.restore_caption(history[1].id)
    assert restored.text == "Studio Ghibli style. model one"
    assert catalog.get_clip(a).caption_origin == "qwen2-vl"
    assert len(catalog.caption_history(clip_id=a)) == 3
    assert catalog.counts()["captioned"] == 1


def test_caption_search_with_fts5(catalog):
    _, (a, b) = add_film(catalog)
    catalog.save_caption("Studio Ghibli style. A cat on a roof at dusk.", clip_id=a)
    catalog.save_caption("Studio Ghibli style. A train crossing water.", clip_id=b)
    catalog.save_caption("Studio Ghibli style. A dog on a roof.", clip_id=a)
    with catalog.session() as s:
        hits = s.execute(sa.text("SELECT rowid FROM clip_fts WHERE clip_fts MATCH 'roof'")).all()
        assert [h[0] for h in hits] == [a]
        assert s.execute(sa.text("SELECT rowid FROM clip_fts WHERE clip_fts MATCH 'cat'")).all() == []


def test_trim_and_split_keep_the_caption(catalog):
    _, (a, _b) = add_film(catalog)
    catalog.save_caption("Studio Ghibli style. Rain.", clip_id=a)
    catalog.save_analysis(a, {"motion_mean": 1.0}, motion=1.0, cuts=0)
    left, right = catalog.split_clip(a, 20)
    assert (catalog.get_clip(left).start_frame, catalog.get_clip(left).end_frame) == (0, 20)
    child = catalog.get_clip(right)
    assert (child.start_frame, child.end_frame, child.parent_id) == (20, 50, a)
    assert child.caption == "Studio Ghibli style. Rain."
    assert catalog.caption_history(clip_id=right)[0].settings == {"copied_from_clip": a}
    assert catalog.get_clip(left).motion is None  # stale analysis dropped
    trimmed = catalog.trim_clip(right, 22, 48)
    assert trimmed.frames == 26
    with pytest.raises(CatalogError, match="not inside its source"):
        catalog.trim_clip(right, 100, 500)


def test_settings_are_typed_and_persist(project):
    catalog = project.catalog
    assert catalog.settings().target_fps == 16.0
    catalog.update_settings(trigger="Studio Ghibli style.")
    project.close()
    reopened = Catalog.for_project(project.root)
    assert reopened.settings().trigger == "Studio Ghibli style."
    with pytest.raises(CatalogError, match="unknown project settings"):
        reopened.update_settings(trigers="typo")
    reopened.close()


def test_jobs_record_how_they_ended(catalog):
    job = catalog.start_job("train", {"argv": ["python", "x.py"]})
    catalog.update_job(job, done=3, total=10)
    catalog.finish_job(job, "failed", return_code=3, log="last line")
    row = catalog.get_job(job)
    assert (row.status, row.return_code, row.done, row.log) == ("failed", 3, 3, "last line")
    assert row.ended_at is not None


def test_models_match_the_newest_migration(tmp_path):
    """The ORM models and the migrated schema agree column for column."""
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    inspector = sa.inspect(catalog.engine)
    for table in Base.metadata.sorted_tables:
        migrated = {c["name"] for c in inspector.get_columns(table.name)}
        assert migrated == {c.name for c in table.columns}, table.name
    catalog.close()


def test_a_catalog_made_by_the_oldest_schema_opens_with_its_data(tmp_path):
    """A 0001 catalog (first release) upgrades in place; its clips, captions and jobs survive."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.execute(sa.text(
            "INSERT INTO sources (id, path, size, mtime, content_hash, container, codec, fps_num, "
            "fps_den, frame_count, width, height, duration, status, added_at, probed_at) VALUES "
            "(1, '/old/film.mp4', 10, 1.0, 'h', 'mp4', 'h264', 16, 1, 90, 768, 416, 5.6, 'ok', "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
        connection.execute(sa.text(
            "INSERT INTO clips (id, source_id, start_frame, end_frame, frames, fps, duration, "
            "width, height, decision, caption, caption_origin, caption_is_manual, created_at) "
            "VALUES (1, 1, 0, 90, 90, 16.0, 5.6, 768, 416, 'accepted', "
            "'Studio Ghibli style. Old.', 'manual', 1, '2026-01-01 00:00:00')"))
        connection.execute(sa.text(
            "INSERT INTO captions (clip_id, text, origin, is_manual, created_at) VALUES "
            "(1, 'Studio Ghibli style. Old.', 'manual', 1, '2026-01-01 00:00:00')"))
    engine.dispose()

    catalog = Catalog(url)
    assert catalog.schema_revision() == head_revision()
    clip = catalog.get_clip(1)
    assert (clip.decision, clip.caption, clip.motion) == ("accepted", "Studio Ghibli style. Old.",
                                                          None)
    assert catalog.counts() == {"pending": 0, "accepted": 1, "rejected": 0, "captioned": 1,
                                "total": 1}
    with catalog.session() as s:  # the search index was built from the old captions
        assert s.execute(sa.text("SELECT rowid FROM clip_fts WHERE clip_fts MATCH 'old'")).all()
    catalog.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@pytest.fixture(scope="module")
def postgres_url():
    """A real PostgreSQL server on a private socket, started for these tests."""
    pg_bin = _postgres_bin()
    if pg_bin is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
                    "apt-get install postgresql")
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed (test extra)")
    # Not under pytest's tmp folder: that one is private to root and the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="curator-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server")
        os.chown(data, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    pgdata = data / "data"
    subprocess.run([*run_as, str(pg_bin / "initdb"), "-D", str(pgdata), "-U", "curator",
                    "--auth=trust"], check=True, capture_output=True)
    subprocess.run([*run_as, str(pg_bin / "pg_ctl"), "-D", str(pgdata), "-w", "-l",
                    str(data / "log"), "-o", f"-p {port} -k {data} -c listen_addresses=''",
                    "start"], check=True, capture_output=True)
    url = f"postgresql+psycopg2://curator@/postgres?host={data}&port={port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                sa.create_engine(url).connect().close()
                break
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        subprocess.run([*run_as, str(pg_bin / "pg_ctl"), "-D", str(pgdata), "-m", "fast",
                        "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.postgres
def test_the_same_catalog_runs_on_postgresql(postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CURATOR_DB_URL", postgres_url)
    catalog = Catalog.for_project(tmp_path / "team-project")
    assert catalog.engine.dialect.name == "postgresql"
    assert not (tmp_path / "team-project" / "curator.db").exists()
    _, (a, b) = add_film(catalog)
    catalog.set_decision([a], "accepted")
    catalog.save_caption("Studio Ghibli style. Shared.", clip_id=a)
    assert catalog.save_caption("Studio Ghibli style. model", clip_id=a, origin="vlm") is None
    assert catalog.counts() == {"pending": 1, "accepted": 1, "rejected": 0, "captioned": 1,
                                "total": 2}
    assert catalog.list_clips(status="accepted")[0].fps == Fraction(24000, 1001)
    left, right = catalog.split_clip(b, 80)
    assert catalog.get_clip(right).parent_id == b
    # the conditional writes (issue 10): a rule never overrides the person; undo is a CAS
    assert catalog.set_decision([a], "rejected", "too static", by="rule",
                                keep_person_decisions=True) == []
    assert [c.id for c in catalog.set_decision([b], "rejected", "too static", by="rule",
                                               keep_person_decisions=True)] == [b]
    swap = catalog.swap_decisions([DecisionChange("clip", a, "accepted", None, "person")],
                                  [DecisionChange("clip", a, "pending", None, None)])
    assert [c.id for c in swap.applied] == [a] and catalog.get_clip(a).decision == "pending"
    assert catalog.recover_jobs() == []
    catalog.close()


def test_newest_caption_ids_in_one_query(catalog):
    _, (a, b) = add_film(catalog)
    catalog.save_caption("Studio Ghibli style. one", clip_id=a)
    newest = catalog.save_caption("Studio Ghibli style. two", clip_id=a)
    assert catalog.newest_caption_ids(clip_ids=[a, b]) == {("clip", a): newest.id}
