variable "libvirt_uri" {
  description = "The hypervisor, e.g. qemu+ssh://admin@kvm1.internal/system"
  type        = string
  default     = "qemu:///system"
}

variable "environment" {
  description = "dev, staging or prod: names the VMs and picks cluster/argocd/<environment>"
  type        = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "base_image_url" {
  description = "A cloud image with cloud-init (Debian 12 genericcloud, qcow2)"
  type        = string
  default     = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"
}

variable "storage_pool" {
  description = "The libvirt storage pool for the disks"
  type        = string
  default     = "default"
}

variable "network_name" {
  description = "The libvirt network the nodes join"
  type        = string
  default     = "default"
}

variable "servers" {
  description = "k3s servers (1 for dev, 3 for an HA control plane)"
  type        = number
  default     = 1
}

variable "agents" {
  description = "k3s agents"
  type        = number
  default     = 2
}

variable "server_vcpu" {
  type    = number
  default = 2
}

variable "server_memory_mib" {
  type    = number
  default = 4096
}

variable "agent_vcpu" {
  type    = number
  default = 4
}

variable "agent_memory_mib" {
  type    = number
  default = 8192
}

variable "disk_bytes" {
  description = "Root disk size of every node"
  type        = number
  default     = 42949672960 # 40 GiB
}

variable "admin_user" {
  description = "The account Ansible logs in with"
  type        = string
  default     = "stockmesh"
}

variable "ssh_public_keys" {
  description = "Public keys allowed to log in as admin_user (no password login exists)"
  type        = list(string)
}
