"""What every data screen shares: it draws a Frame it is handed, and posts what the user did."""

from __future__ import annotations

from textual.message import Message
from textual.screen import Screen

from tui.model.view import Frame, ViewEvent
from tui.widgets.status import StatusBar


class UserActed(Message):
    """The user did something that changes the view state (the app folds it in)."""

    def __init__(self, event: ViewEvent) -> None:
        super().__init__()
        self.event = event


class FrameScreen(Screen[None]):
    """A screen drawn from the newest Frame the app handed it; never reads the app's state."""

    def __init__(self, frame: Frame) -> None:
        super().__init__()
        self.frame = frame

    def show_frame(self, frame: Frame) -> None:
        """Take a new frame and redraw (once mounted)."""
        self.frame = frame
        if self.is_mounted:
            self.refresh_view()

    def act(self, event: ViewEvent) -> None:
        """Tell the app what the user did."""
        self.post_message(UserActed(event))

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def show_status(self) -> None:
        """Redraw the status bar from the frame."""
        frame = self.frame
        self.query_one("#status", StatusBar).show(frame)

    def refresh_view(self) -> None:
        """Redraw everything from the frame."""
        raise NotImplementedError
