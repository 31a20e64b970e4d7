"""A presenter room in the page: the teacher presents, a student opens the room link, and the
student's canvas follows the teacher's edits within 500 ms; "make my copy" stops following,
"follow again" catches up. Then the same through two server processes sharing a Redis, the
teacher on one and the student on the other."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from servers import REDIS, dagrad_server, redis_server

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e


ZOOM = "() => new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a"
LEFTMOST = """() => window.__dagrad.graph.getState().graph.nodes
    .reduce((a, n) => (n.position.x < a.position.x ? n : a)).id"""


def title_px(page: Any) -> float:
    """The font size of node titles on the canvas, before the zoom."""
    return float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('.op-name')).fontSize)"))


def new_page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(url)
    page.wait_for_selector("[data-testid=examples-button]")
    return page


def present(teacher: Any) -> str:
    teacher.click("[data-testid=present-button]")
    link = teacher.locator("[data-testid=room-link]")
    expect(link).to_be_visible()
    value = link.input_value()
    assert "?room=" in value
    return value


def follow_an_edit(teacher: Any, student: Any) -> float:
    """The teacher adds a node; how long until the student's canvas has it."""
    ed = Editor(teacher)
    before = set(ed.node_ids())
    start = time.perf_counter()
    ed.add_by_keyboard("tanh")
    added = (set(ed.node_ids()) - before).pop()
    student.wait_for_selector(f".react-flow__node[data-id='{added}']", timeout=5000)
    return time.perf_counter() - start


def test_a_student_follows_the_teachers_room(browser: Any, server: str, console: Console) -> None:
    teacher = new_page(browser, server)
    Editor(teacher).open_example("dag_4_1")
    Editor(teacher).wait_valid()
    link = present(teacher)
    student = browser.new_page(viewport={"width": 1280, "height": 720})
    validations: list[str] = []  # a follower shows the presenter's validation: it asks for none
    student.on("request", lambda r: validations.append(r.url) if "/api/validate" in r.url else None)
    student.goto(link)
    expect(student.locator("[data-testid=room-bar]")).to_have_attribute("data-role", "following")
    expect(student.locator(".react-flow__node[data-id='q']")).to_be_visible()
    Editor(student).wait_valid()  # the shapes, as the teacher's page found them

    lag = follow_an_edit(teacher, student)
    assert lag < 0.5, f"the student's canvas followed after {lag * 1000:.0f} ms"
    teacher.locator("[data-testid=canvas] .react-flow__pane").click(position={"x": 5, "y": 5})
    teacher.keyboard.press("Control+z")  # the lone tanh goes again, on both
    expect(student.locator(".react-flow__node")).to_have_count(len(Editor(teacher).node_ids()))

    # Runs and views follow too: the teacher runs and shows gradients.
    Editor(teacher).run()
    teacher.click("[data-testid=mode-grad]")
    expect(student.locator("[data-testid=run-status]")).to_be_visible()
    expect(student.locator("[data-testid=mode-grad]")).to_have_class(re.compile(r"\bon\b"))

    assert validations == []

    # A copy stops following; following again catches up with what the teacher did meanwhile.
    student.click("[data-testid=room-copy]")
    expect(student.locator("[data-testid=room-bar]")).to_have_attribute("data-role", "copy")
    before = set(Editor(student).node_ids())
    teachers = len(Editor(teacher).node_ids())
    Editor(teacher).add_by_keyboard("relu")
    expect(teacher.locator(".react-flow__node")).to_have_count(teachers + 1)
    time.sleep(0.5)
    assert set(Editor(student).node_ids()) == before  # the copy did not follow
    student.click("[data-testid=room-follow]")
    expect(student.locator(".react-flow__node")).to_have_count(len(Editor(teacher).node_ids()))

    # The next example: each student's canvas fits it as the teacher's does, at the same zoom, a
    # readable one (the whole graph where it fits, else its start: its leftmost node in view).
    Editor(teacher).open_example("siamese")
    expect(student.locator(".react-flow__node")).to_have_count(len(Editor(teacher).node_ids()))
    first = teacher.evaluate(LEFTMOST)
    for page in (teacher, student):
        expect(page.locator(f".react-flow__node[data-id='{first}']")).to_be_in_viewport()
    deadline = time.monotonic() + 5
    while (zooms := (teacher.evaluate(ZOOM), student.evaluate(ZOOM)))[0] != zooms[1]:
        assert time.monotonic() < deadline, f"the teacher's zoom and the student's differ: {zooms}"
        time.sleep(0.05)
    assert zooms[1] * title_px(student) >= 9

    teacher.click("[data-testid=room-stop]")
    expect(student.locator("[data-testid=room-bar]")).to_have_attribute("data-role", "copy")
    expect(student.locator("[data-testid=room-message]")).to_contain_text("closed")
    teacher.close()
    student.close()
    assert console.errors == []


@pytest.fixture(scope="module")
def redis_servers() -> Iterator[tuple[str, str]]:
    if REDIS is None:
        pytest.skip("redis-server is missing: `apt-get install redis-server` (make test installs it as root)")
    with (
        redis_server() as redis,
        dagrad_server(DAGRAD_REDIS_URL=redis) as a,
        dagrad_server(DAGRAD_REDIS_URL=redis) as b,
    ):
        yield a, b


def test_a_student_on_another_process_follows_through_redis(browser: Any, redis_servers: tuple[str, str]) -> None:
    a, b = redis_servers
    teacher = new_page(browser, a)
    Editor(teacher).open_example("pow3_backward")
    Editor(teacher).wait_valid()
    link = present(teacher)
    student = new_page(browser, link.replace(a, b))
    expect(student.locator(".react-flow__node[data-id='u']")).to_be_visible()
    lag = follow_an_edit(teacher, student)
    assert lag < 0.5, f"the student's canvas followed after {lag * 1000:.0f} ms"
    teacher.close()
    student.close()


def test_presenting_asks_for_the_teacher_token_where_one_is_set(browser: Any) -> None:
    with dagrad_server(DAGRAD_TEACHER_TOKEN="chalk") as url:
        teacher = new_page(browser, url)
        teacher.click("[data-testid=present-button]")
        expect(teacher.locator("[data-testid=room-bar]")).to_have_attribute("data-role", "asking")
        teacher.fill("[data-testid=teacher-token]", "guess")
        teacher.click("[data-testid=teacher-token-submit]")
        expect(teacher.locator("[data-testid=room-message]")).to_contain_text("token")
        expect(teacher.locator("[data-testid=room-bar]")).to_have_attribute("data-role", "asking")
        teacher.fill("[data-testid=teacher-token]", "chalk")
        teacher.click("[data-testid=teacher-token-submit]")
        expect(teacher.locator("[data-testid=room-bar]")).to_have_attribute("data-role", "presenting")
        link = teacher.locator("[data-testid=room-link]").input_value()
        student = new_page(browser, link)  # a student needs no teacher token to follow
        expect(student.locator("[data-testid=room-bar]")).to_have_attribute("data-role", "following")
        teacher.close()
        student.close()
