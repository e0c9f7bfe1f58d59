"""Stack settings: *where* Keystone applies the roster (hosts, ZFS layout, Authentik, Kubernetes,
ZeroTier, route servers).  Read from ``Pulumi.<stack>.yaml`` under the ``keystone:`` namespace."""
from .model import (
    AuthentikSettings,
    HostSettings,
    KubernetesSettings,
    OffboardingSettings,
    PromotionSettings,
    StackSettings,
    ZfsSettings,
)
from .loader import SettingsError, load_settings, settings_from_config

__all__ = [
    "AuthentikSettings", "HostSettings", "KubernetesSettings", "OffboardingSettings", "PromotionSettings",
    "SettingsError", "StackSettings", "ZfsSettings", "load_settings", "settings_from_config",
]
