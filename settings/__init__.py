"""Stack settings: *where* Keystone applies the roster (hosts, ZFS layout, Authentik, Kubernetes,
ZeroTier, route servers).  Read from ``Pulumi.<stack>.yaml`` under the ``keystone:`` namespace.

Modules (imported as a tree, no cycle): ``fields`` (shared field types and the base model) <- ``host``
(``HostSettings``, derived from the transport's ``HostTarget``) <- ``peering``, ``workstation``, ``kubeconfig`` <-
``model`` (``StackSettings``) <- ``loader`` (the file, with line and column of every error)."""
from .host import HostSettings
from .model import (
    AuthentikSettings,
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
