terraform {
  required_version = ">= 1.6"
  required_providers {
    # The VMs live on a self-hosted KVM hypervisor, driven over libvirt.
    libvirt = {
      source  = "dmacvicar/libvirt"
      version = "0.8.1"
    }
  }
}

provider "libvirt" {
  uri = var.libvirt_uri
}
