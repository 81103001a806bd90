//! The tray icon on Windows and macOS: the `tray-icon`/`muda` crates Tauri uses, on a tao event
//! loop that owns the main thread.
//!
//! **Unverified:** this file is only compiled for Windows and macOS, and has been neither built
//! nor run there; it was written against the tray-icon 0.25 / muda 0.20 / tao 0.37 sources.
//!
//! Both systems want the tray on a thread running their event loop, and macOS wants it on the
//! main thread, after the loop started. So `main` hands the main thread to [`run_main_loop`],
//! which calls back with a [`MainLoop`] handle once the loop runs; the async app runs on other
//! threads and passes that handle to [`TrayIcon::start`], whose calls become messages to the
//! loop. Clicks come back through the crates' global event handlers, on the loop's thread.

use tao::event::{Event, StartCause};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tokio::sync::{mpsc, oneshot, watch};
use tray_icon::menu::{IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tray_icon::{Icon, MouseButton, TrayIconBuilder, TrayIconEvent};

use super::{MenuEntry, TrayError, TrayHost, TrayInput, TrayLook};

type Reply = oneshot::Sender<Result<(), TrayError>>;

/// What the loop is asked to do or told happened.
enum UserEvent {
    Show(TrayLook, mpsc::UnboundedSender<TrayInput>, Reply),
    Update(TrayLook, Reply),
    Remove,
    Quit,
    Menu(MenuEvent),
    Tray(TrayIconEvent),
}

/// A handle on the main thread's event loop; cheap to clone and usable from any thread.
#[derive(Clone)]
pub struct MainLoop {
    proxy: EventLoopProxy<UserEvent>,
}

impl MainLoop {
    /// Ends the event loop, and with it the process.
    pub fn quit(&self) {
        if self.proxy.send_event(UserEvent::Quit).is_err() {
            tracing::debug!("the tray's event loop has already ended");
        }
    }

    async fn ask(&self, event: impl FnOnce(Reply) -> UserEvent) -> Result<(), TrayError> {
        let (reply, answer) = oneshot::channel();
        self.proxy
            .send_event(event(reply))
            .map_err(|_| TrayError::MainLoopGone)?;
        answer.await.map_err(|_| TrayError::MainLoopGone)?
    }
}

/// Runs the event loop on this (the main) thread until [`MainLoop::quit`], then exits the
/// process. `started` is called once, on this thread, when the loop runs: start the async app
/// on other threads from there, handing it the [`MainLoop`].
pub fn run_main_loop(started: impl FnOnce(MainLoop) + 'static) -> ! {
    #[allow(unused_mut)]
    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    #[cfg(target_os = "macos")]
    {
        use tao::platform::macos::{ActivationPolicy, EventLoopExtMacOS};
        // A tray app: no Dock icon, no menu bar of its own.
        event_loop.set_activation_policy(ActivationPolicy::Accessory);
    }
    let proxy = event_loop.create_proxy();
    let menu_proxy = proxy.clone();
    MenuEvent::set_event_handler(Some(move |event| {
        let _ = menu_proxy.send_event(UserEvent::Menu(event));
    }));
    let tray_proxy = proxy.clone();
    TrayIconEvent::set_event_handler(Some(move |event| {
        let _ = tray_proxy.send_event(UserEvent::Tray(event));
    }));

    let mut started = Some(started);
    let mut shown: Option<Shown> = None;
    event_loop.run(move |event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            Event::NewEvents(StartCause::Init) => {
                if let Some(started) = started.take() {
                    started(MainLoop {
                        proxy: proxy.clone(),
                    });
                }
            }
            Event::UserEvent(UserEvent::Show(look, input, reply)) => {
                let result = Shown::new(look, input).map(|new| shown = Some(new));
                let _ = reply.send(result);
            }
            Event::UserEvent(UserEvent::Update(look, reply)) => {
                let result = match shown.as_mut() {
                    Some(shown) => shown.update(look),
                    None => Ok(()),
                };
                let _ = reply.send(result);
            }
            Event::UserEvent(UserEvent::Remove) => shown = None,
            Event::UserEvent(UserEvent::Quit) => {
                shown = None;
                *control_flow = ControlFlow::Exit;
            }
            Event::UserEvent(UserEvent::Menu(event)) => {
                if let Some(shown) = &shown {
                    shown.send(TrayInput::Menu(event.id.0));
                }
            }
            // A left click opens the menu (as in the Tauri app); a double click (Windows
            // only) activates.
            Event::UserEvent(UserEvent::Tray(TrayIconEvent::DoubleClick {
                button: MouseButton::Left,
                ..
            })) => {
                if let Some(shown) = &shown {
                    shown.send(TrayInput::Activate);
                }
            }
            _ => {}
        }
    })
}

/// The icon on screen and what it shows; lives on the loop's thread.
struct Shown {
    icon: tray_icon::TrayIcon,
    look: TrayLook,
    input: mpsc::UnboundedSender<TrayInput>,
}

impl Shown {
    fn new(look: TrayLook, input: mpsc::UnboundedSender<TrayInput>) -> Result<Shown, TrayError> {
        let icon = TrayIconBuilder::new()
            .with_id("sse-tray")
            .with_icon(icon(&look)?)
            .with_tooltip(&look.tooltip)
            .with_menu(Box::new(menu(&look.menu)?))
            .with_menu_on_left_click(true)
            .build()
            .map_err(native)?;
        Ok(Shown { icon, look, input })
    }

    fn update(&mut self, look: TrayLook) -> Result<(), TrayError> {
        if look.icon_rgba != self.look.icon_rgba || look.icon_size != self.look.icon_size {
            self.icon.set_icon(Some(icon(&look)?)).map_err(native)?;
        }
        if look.tooltip != self.look.tooltip {
            self.icon.set_tooltip(Some(&look.tooltip)).map_err(native)?;
        }
        if look.menu != self.look.menu {
            // Menus are a handful of items: rebuilding is simpler than patching.
            self.icon.set_menu(Some(Box::new(menu(&look.menu)?)));
        }
        self.look = look;
        Ok(())
    }

    fn send(&self, input: TrayInput) {
        if self.input.send(input).is_err() {
            tracing::debug!("tray input dropped: nobody listens");
        }
    }
}

fn native(error: impl std::fmt::Display) -> TrayError {
    TrayError::Native(error.to_string())
}

fn icon(look: &TrayLook) -> Result<Icon, TrayError> {
    Icon::from_rgba(look.icon_rgba.clone(), look.icon_size, look.icon_size).map_err(native)
}

fn menu(entries: &[MenuEntry]) -> Result<Menu, TrayError> {
    let menu = Menu::new();
    for entry in entries {
        menu.append(item(entry)?.as_ref()).map_err(native)?;
    }
    Ok(menu)
}

fn item(entry: &MenuEntry) -> Result<Box<dyn IsMenuItem>, TrayError> {
    Ok(match entry {
        MenuEntry::Item { id, label, enabled } => {
            Box::new(MenuItem::with_id(id.clone(), label, *enabled, None))
        }
        MenuEntry::Separator => Box::new(PredefinedMenuItem::separator()),
        MenuEntry::Submenu { label, children } => {
            let submenu = Submenu::new(label, true);
            for child in children {
                submenu.append(item(child)?.as_ref()).map_err(native)?;
            }
            Box::new(submenu)
        }
    })
}

/// The tray icon, shown while this handle lives; dropping it removes the icon.
pub struct TrayIcon {
    main_loop: MainLoop,
    host: watch::Receiver<TrayHost>,
    /// Kept so receivers never see the channel closed: the system tray does not go away.
    _host: watch::Sender<TrayHost>,
}

impl TrayIcon {
    /// Shows the icon through the main thread's loop. Clicks arrive on `input`.
    pub async fn start(
        main_loop: MainLoop,
        look: TrayLook,
        input: mpsc::UnboundedSender<TrayInput>,
    ) -> Result<TrayIcon, TrayError> {
        look.check_icon()?;
        main_loop
            .ask(|reply| UserEvent::Show(look, input, reply))
            .await?;
        let (host_tx, host) = watch::channel(TrayHost {
            watcher: true,
            host: true,
            registered: true,
        });
        Ok(TrayIcon {
            main_loop,
            host,
            _host: host_tx,
        })
    }

    /// Shows `look`, changing only what differs.
    pub async fn update(&self, look: TrayLook) -> Result<(), TrayError> {
        look.check_icon()?;
        self.main_loop
            .ask(|reply| UserEvent::Update(look, reply))
            .await
    }

    /// Always "shown": the system tray is part of the OS.
    pub fn host(&self) -> watch::Receiver<TrayHost> {
        self.host.clone()
    }
}

impl Drop for TrayIcon {
    fn drop(&mut self) {
        let _ = self.main_loop.proxy.send_event(UserEvent::Remove);
    }
}
