// The theme follows the system through CSS (`light-dark()`); this only names it on <html> for
// tests and screenshots, and follows the system setting live.
export function followSystemTheme(): void {
  const dark = window.matchMedia('(prefers-color-scheme: dark)');
  const name = (): void => {
    document.documentElement.dataset.systemTheme = dark.matches ? 'dark' : 'light';
  };
  dark.addEventListener('change', name);
  name();
}
