"""The catalog on a real SQLite file: clips, decisions, captions, migrations, PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
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


def test_a_0003_catalog_gains_text_share_and_crop_and_keeps_its_data(tmp_path):
    """Revision 0004 adds clips.text_share/crop (and the text check of images) in place."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0003")
        connection.execute(sa.text(
            "INSERT INTO sources (id, path, size, mtime, content_hash, container, codec, fps_num, "
            "fps_den, frame_count, width, height, duration, status, added_at, probed_at) VALUES "
            "(1, '/old/film.mp4', 10, 1.0, 'h', 'mp4', 'h264', 16, 1, 90, 768, 416, 5.6, 'ok', "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
        connection.execute(sa.text(
            "INSERT INTO clips (id, source_id, start_frame, end_frame, frames, fps, duration, "
            "width, height, decision, caption_is_manual, created_at, motion, analysis) "
            "VALUES (1, 1, 0, 90, 90, 16.0, 5.6, 768, 416, 'rejected', 0, "
            "'2026-01-01 00:00:00', 2.5, :analysis)"),
            {"analysis": '{"borders": {"top": 44, "bottom": 44, "left": 0, "right": 0, '
                         '"crop": [0, 44, 768, 328]}}'})
        connection.execute(sa.text(
            "INSERT INTO images (id, path, size, mtime, content_hash, width, height, decision, "
            "caption_is_manual, created_at) VALUES (1, '/old/still.png', 5, 1.0, 'i', 64, 48, "
            "'pending', 0, '2026-01-01 00:00:00')"))
    engine.dispose()

    catalog = Catalog(url)
    assert catalog.schema_revision() == head_revision()
    clip = catalog.get_clip(1)
    assert (clip.decision, clip.motion, clip.text_share, clip.crop) == ("rejected", 2.5, None,
                                                                         None)
    assert clip.export_crop == (0, 44, 768, 328)  # not set by a person: the measured bars
    assert clip.to_json()["text_share"] is None and clip.to_json()["crop"] is None
    assert catalog.set_clip_crop(1, ()).export_crop is None  # "no crop" is kept apart from unset
    assert catalog.set_clip_crop(1, (10, 0, 700, 416)).to_json()["crop"] == [10, 0, 700, 416]
    assert catalog.set_clip_crop(1, None).export_crop == (0, 44, 768, 328)
    with pytest.raises(CatalogError, match="outside 768x416"):
        catalog.set_clip_crop(1, (0, 0, 800, 416))
    catalog.save_analysis(1, {"text_share": 0.5}, motion=1.0, cuts=0)
    assert catalog.get_clip(1).text_share == 0.5
    catalog.save_image_text(1, {"kind": None, "boxes": [], "strings": []}, 0.0)
    image = catalog.list_images()[0]
    assert (image.text_share, image.analysis["text"]["boxes"]) == (0.0, [])
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


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail under CI, which must test the team catalog."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: .ci/run installs Debian's postgresql, so the "
                    f"PostgreSQL tests must run there, not skip)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def postgres_url():
    """A real PostgreSQL server on a private socket, started for these tests."""
    pg_bin = _postgres_bin()
    if pg_bin is None:
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
                     "apt-get install postgresql")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        _unavailable("psycopg2 is not installed (test extra)")
    # Not under pytest's tmp folder: that one is private to root and the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="curator-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        if not shutil.which("runuser"):
            _unavailable("running as root without runuser: cannot start PostgreSQL")
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user to run the server")
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
        subprocess.run([*run_as, str(pg_bin / "pg_ctl"), "-D", str(pgdata), "-m", "immediate",
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


def _search_answers(catalog: Catalog) -> dict[str, list[int]]:
    from curator.core.catalog.queries import ClipQuery, clip_ids_matching, count_clips

    _, ids = add_film(catalog, ranges=[(0, 20), (20, 40), (40, 60), (60, 80), (80, 120)])
    for clip_id, caption in zip(ids, [
            "Studio Ghibli style. A cat sleeps on a roof at dusk.",
            "Studio Ghibli style. Scattered leaves; the catalogue of a shop.",
            "Studio Ghibli style. A girl's red umbrella (100% cotton) in rain.",
            "Studio Ghibli style. Rooftops under snow."]):
        catalog.save_caption(caption, clip_id=clip_id)
    catalog.set_decision(ids[:2], "accepted")
    answers = {}
    for typed in ("cat", "roof", "ROO", "cat roof", "girl's", "100%", "rain umbrella", "dog",
                  "scatter leaves", "_", "snow", "tops", "ella"):
        found = clip_ids_matching(catalog, ClipQuery(text=typed))
        assert count_clips(catalog, ClipQuery(text=typed)) == len(found)
        answers[typed] = [ids.index(i) for i in found]
    accepted = clip_ids_matching(catalog, ClipQuery(status="accepted", text="cat"))
    answers["accepted cat"] = [ids.index(i) for i in accepted]
    return answers


@pytest.mark.postgres
def test_caption_search_finds_the_same_clips_on_postgresql_as_fts5(postgres_url, tmp_path):
    """PostgreSQL has no FTS5 table: its search must still answer as SQLite's prefixes do."""
    sqlite = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    expected = _search_answers(sqlite)
    sqlite.close()
    assert expected["cat"] == [0, 1] and expected["roof"] == [0, 3] and expected["dog"] == []
    postgres = Catalog(_fresh_database(postgres_url, "search"))
    assert _search_answers(postgres) == expected
    postgres.close()


def _fresh_database(server_url: str, name: str) -> str:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.replace("/postgres?", f"/{name}?")


@pytest.mark.postgres
@pytest.mark.slow
def test_two_writers_deciding_and_captioning_at_once_lose_nothing(postgres_url, tmp_path):
    """A person and a captioning run with its rule, in two processes, on one shared catalog.

    Both open a new, empty catalog at the same moment (both migrate it), then walk the same
    clips in the same order: the person decides and writes a manual caption, the model saves
    its caption and a rule rejects the clip. Whatever the interleaving, the person's decision
    and caption must stand and every saved version must be in the history.
    """
    from tests.catalog_writers import model_caption, person_caption, person_decision

    url = _fresh_database(postgres_url, "two_writers")
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    writers = {role: subprocess.Popen(
        [sys.executable, "-m", "tests.catalog_writers", role, url, str(go),
         str(tmp_path / f"{role}.json")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, cwd=Path(__file__).resolve().parents[2])
        for role in ("person", "model")}
    try:
        for role, process in writers.items():  # both migrated the new catalog, neither failed
            line = process.stdout.readline().strip()
            assert line == "ready", f"{role}: {line} {process.stderr.read()}"
        catalog = Catalog(url)
        n = 80
        _, clip_ids = catalog.upsert_source(
            path=Path("/films/shared.mkv"), size=1, mtime=1.0, content_hash="shared",
            container="matroska", codec="h264", fps=Fraction(24), frame_count=n * 10,
            header_frame_count=None, width=1920, height=1040, duration=n * 10 / 24,
            clip_ranges=[(i * 10, i * 10 + 10) for i in range(n)])
        assert len(clip_ids) == n
        go.touch()
        for role, process in writers.items():
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0, f"{role} failed: {err}"
    finally:
        for process in writers.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    person = json.loads((tmp_path / "person.json").read_text())
    model = json.loads((tmp_path / "model.json").read_text())
    assert person["refused"] == [] and sorted(person["decided"]) == clip_ids
    with catalog.session() as s:
        versions = dict(s.execute(sa.text("SELECT id, text FROM captions")).all())
    # Every version either writer was told was saved is there, and nothing else.
    assert sorted(versions) == sorted(person["saved"] + model["saved"])
    assert len(model["saved"]) + len(model["refused"]) == n
    for clip in catalog.list_clips():
        # The person's decision and caption stand, whatever the rule and the model did.
        assert (clip.decision, clip.decided_by) == (person_decision(clip.id), "person"), clip.id
        assert (clip.caption, clip.caption_is_manual) == (person_caption(clip.id), True), clip.id
        history = catalog.caption_history(clip_id=clip.id)
        assert history[0].text == clip.caption  # the current caption is the newest version
        assert {h.text for h in history} <= {person_caption(clip.id), model_caption(clip.id)}
    # A model caption saved after the person's was refused, never written over it.
    assert set(model["refused"]) <= set(clip_ids)
    assert catalog.counts() == {"pending": 0, "accepted": n // 2, "rejected": n - n // 2,
                                "captioned": n, "total": n}
    catalog.close()


def test_newest_caption_ids_in_one_query(catalog):
    _, (a, b) = add_film(catalog)
    catalog.save_caption("Studio Ghibli style. one", clip_id=a)
    newest = catalog.save_caption("Studio Ghibli style. two", clip_id=a)
    assert catalog.newest_caption_ids(clip_ids=[a, b]) == {("clip", a): newest.id}


def test_the_head_revision_constant_is_alembics_head():
    """`Catalog` skips alembic when a catalog is stamped HEAD_REVISION: it must be the head."""
    from curator.core.catalog.migrations import HEAD_REVISION

    assert HEAD_REVISION == head_revision()
